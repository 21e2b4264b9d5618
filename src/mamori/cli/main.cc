// The mamori command line: parses the verb and hands over to cli/commands.
#include "mamori/cli/commands.h"

int main(int argc, char** argv) { return mamori::cli::Main(argc, argv); }
