"""A minimal stand-in for AutoPkg's autopkglib, enough to load and run a
processor the way AutoPkg 2.9 does (Processor.process applies defaults for
absent keys, checks required inputs, calls main; inject substitutes %var%
in step arguments with AutoPkg's RE_KEYREF, single pass)."""

import re

RE_KEYREF = re.compile(r"%(?P<key>[a-zA-Z_][a-zA-Z_0-9]*)%")


class ProcessorError(Exception):
    """An expected failure; AutoPkg fails the recipe with its message."""


def update_data(env, value):
    """AutoPkg's substitution: strings, lists and dicts; an undefined key
    leaves the whole string unchanged; a non-string value inside a string
    raises TypeError, as in AutoPkg."""
    if isinstance(value, str):
        for match in RE_KEYREF.finditer(value):
            if match.group("key") not in env:
                return value
        return RE_KEYREF.sub(lambda m: env[m.group("key")], value)
    if isinstance(value, list):
        return [update_data(env, item) for item in value]
    if isinstance(value, dict):
        return {key: update_data(env, item) for key, item in value.items()}
    return value


class Processor:
    """The base class processors subclass."""

    description = None
    input_variables = {}
    output_variables = {}

    def __init__(self, env=None, infile=None, outfile=None):
        self.env = env if env is not None else {}

    def output(self, msg, verbose_level=1):
        if int(self.env.get("verbose", 0)) >= verbose_level:
            print("%s: %s" % (self.__class__.__name__, msg))

    def inject(self, arguments):
        for key, value in arguments.items():
            self.env[key] = update_data(self.env, value)

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
