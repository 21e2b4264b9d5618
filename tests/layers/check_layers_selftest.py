#!/usr/bin/env python3
"""Proves scripts/check_layers.py can fail: a tree with an upward include, one
with an undeclared sibling include and one with an unknown folder must each be
refused, and a clean tree accepted. Then the real tree with one deliberately
wrong include added to a copy must be refused too."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "scripts", "check_layers.py")
SRC = os.path.join(HERE, "..", "..", "src", "mamori")


def run(root):
    return subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True)


def tree(layers, files):
    root = tempfile.mkdtemp()
    with open(os.path.join(root, "LAYERS"), "w") as f:
        f.write(layers)
    for path, text in files.items():
        os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as f:
            f.write(text)
    return root


def expect(code, root, what):
    r = run(root)
    shutil.rmtree(root)
    if r.returncode != code:
        print(f"FAIL {what}: exit {r.returncode}, wanted {code}\n{r.stdout}{r.stderr}")
        return False
    print(f"ok   {what}")
    return True


LAYERS = "util:\ncore: util\na: core\nb: core\ntop: a b\n"
ok = True
ok &= expect(0, tree(LAYERS, {"core/x.h": '#include "mamori/util/u.h"\n',
                             "top/t.cc": '#include "mamori/util/u.h"\n#include "mamori/a/a.h"\n'}),
             "clean tree accepted (transitive use allowed)")
ok &= expect(1, tree(LAYERS, {"core/x.h": '#include "mamori/a/a.h"\n'}), "upward include refused")
ok &= expect(1, tree(LAYERS, {"a/x.cc": '#include "mamori/b/b.h"\n'}), "sibling include refused")
ok &= expect(1, tree(LAYERS, {"zzz/x.cc": "\n"}), "folder missing from LAYERS refused")

# The real tree, with one wrong include added to a copy.
copy = tempfile.mkdtemp()
shutil.rmtree(copy)
shutil.copytree(SRC, copy)
ok &= expect(0, shutil.copytree(SRC, os.path.join(tempfile.mkdtemp(), "m")),
             "the real tree is clean")
with open(os.path.join(copy, "store", "store.h"), "a") as f:
    f.write('#include "mamori/engine/runner.h"\n')
ok &= expect(1, copy, "the real tree with store/ including engine/ refused")
print("layers self-test: " + ("1 passed, 0 failed" if ok else "0 passed, 1 failed"))
sys.exit(0 if ok else 1)
