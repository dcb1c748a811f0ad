"""One module per style-transfer method.

Each module provides the method (a class with ``from_official`` and
``stylize``, or an optimisation function) and, for the command line,
``add_cli_arguments(parser)`` and ``run_cli(args, content, style, device)``.
"""

#: ``stylelab transfer --method NAME`` → module implementing it.
METHODS: dict[str, str] = {
    "gatys": "stylelab.methods.gatys",
    "adain": "stylelab.methods.adain",
    "wct": "stylelab.methods.wct",
    "photowct": "stylelab.methods.photowct",
    "dpst": "stylelab.methods.dpst",
    "wct2": "stylelab.methods.wct2",
    "johnson": "stylelab.methods.johnson",
}
