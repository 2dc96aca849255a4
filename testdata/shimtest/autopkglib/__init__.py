"""A minimal stand-in for AutoPkg's autopkglib, enough to load a processor
and call process() the way AutoPkg 2.9 does (defaults for absent keys,
required inputs checked, then main). The unit tests beside it use it so
they need only the standard library and run on any Python 3.10+; every
recipe-level behaviour is tested with the real AutoPkg instead
(release/autopkg_test.go)."""


class ProcessorError(Exception):
    """An expected failure; AutoPkg fails the recipe with its message."""


class Processor:
    """The base class processors subclass."""

    description = None
    input_variables = {}
    output_variables = {}

    def __init__(self, env=None, infile=None, outfile=None):
        self.env = env if env is not None else {}

    def process(self):
        for variable, flags in self.input_variables.items():
            if "default" in flags and variable not in self.env:
                self.env[variable] = flags["default"]
            if flags["required"] and variable not in self.env:
                raise ProcessorError("%s requires %s" % (self.__class__.__name__, variable))
        self.main()
        return self.env

    def main(self):
        raise ProcessorError("Abstract method main() not implemented.")
