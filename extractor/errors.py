"""The one base of every error nianbao raises on purpose. Anything else that escapes is a bug."""


class NianbaoError(Exception):
    """A problem with an input, a store, an export or the settings, said in one line for a person."""
