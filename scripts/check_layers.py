#!/usr/bin/env python3
"""Checks that src/mamori/ keeps its layers: every #include "mamori/<folder>/..."
in a folder names the folder itself or one that src/mamori/LAYERS lets it use
(directly or through the layers it uses). Prints every violation as
FILE:LINE: message and exits 1 if there is any; exits 0 otherwise.

  scripts/check_layers.py [SRC_ROOT]     (default: src/mamori beside this script)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"mamori/([a-z_0-9]+)/')


def read_layers(path):
    order, deps = [], {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if ":" not in line:
                sys.exit(f"{path}:{n}: expected 'folder: deps...'")
            name, rest = line.split(":", 1)
            name = name.strip()
            for d in rest.split():
                if d not in deps:
                    sys.exit(f"{path}:{n}: '{name}' uses '{d}', which is not declared above it")
            order.append(name)
            deps[name] = rest.split()
    return order, deps


def closure(deps):
    allowed = {}
    for name in deps:  # declaration order: every dependency is already closed
        s = {name}
        for d in deps[name]:
            s |= allowed[d]
        allowed[name] = s
    return allowed


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "src", "mamori")
    order, deps = read_layers(os.path.join(root, "LAYERS"))
    allowed = closure(deps)
    problems = []
    for folder in sorted(os.listdir(root)):
        path = os.path.join(root, folder)
        if not os.path.isdir(path):
            continue
        if folder not in allowed:
            problems.append(f"{path}: folder not in LAYERS; add it with the folders it uses")
            continue
        for name in sorted(os.listdir(path)):
            if not name.endswith((".h", ".cc", ".in")):
                continue
            file = os.path.join(path, name)
            with open(file, encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m and m.group(1) not in allowed[folder]:
                        other = m.group(1)
                        why = ("a higher layer" if other in order and
                               order.index(other) > order.index(folder) else
                               "a layer it does not use")
                        problems.append(
                            f"{file}:{n}: {folder}/ includes {other}/, {why}; move what it "
                            f"needs down, pass it in, or declare '{folder}: {other}' in LAYERS "
                            f"if that is the design")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} include(s) break the layers", file=sys.stderr)
        return 1
    print(f"layers ok: {len(order)} folders")
    return 0


if __name__ == "__main__":
    sys.exit(main())
