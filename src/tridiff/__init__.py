"""tridiff: differentiate example functions three ways and report how far each lands."""
__version__ = "0.1.0"
