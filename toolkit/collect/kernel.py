"""The kernel ``sanhui serve`` starts for each page: IPython's kernel, without what a served page
never uses.

Every tablet holds one kernel, so its size multiplies: with 30 tablets and a pool of preheated
kernels a laptop runs 35 of them. Two imports cost much and serve nothing in a locked app kernel:

- ``pyarrow`` (~65 MB resident): pandas loads it when it is installed (the Parquet exports need it),
  but the form, the sign-in page and the board work on plain pandas columns;
- ``debugpy`` (~15 MB, and a fraction of a second at start): ipykernel loads it for the debugger,
  which a locked kernel refuses anyway (:mod:`toolkit.collect.lockdown`).

Both are marked as unavailable in ``sys.modules`` before anything is imported, so pandas and ipykernel
take their documented fallbacks. ``sanhui serve`` writes a kernelspec running :data:`LAUNCHER` with
``python -c`` (not ``-m toolkit.collect.kernel``, so that nothing of the package is imported before
the launcher has blocked those modules) into its private runtime folder (see
:func:`toolkit.collect.server.plan_serve`); nothing else is affected.

>>> spec = kernel_spec("python3")
>>> spec["argv"][:2], spec["argv"][-2:]
(['python3', '-c'], ['-f', '{connection_file}'])
"""

from __future__ import annotations

import sys

__all__ = ["LAUNCHER", "LEFT_OUT", "kernel_spec"]

#: Modules a served kernel never loads.
LEFT_OUT = ("pyarrow", "debugpy")

#: The kernel process's program (``python -c LAUNCHER -f {connection_file}``).
LAUNCHER = (
    "import sys\n"
    f"for name in {LEFT_OUT!r}:\n"
    "    sys.modules.setdefault(name, None)\n"
    "from ipykernel.kernelapp import launch_new_instance\n"
    "launch_new_instance()\n"
)


def kernel_spec(python: str | None = None) -> dict[str, object]:
    """The kernelspec (``kernel.json``) of the served kernel."""
    return {
        # no IPython history: every kernel would write to one shared SQLite file, and with 30
        # tablets its "database is locked" warning ends up on a resident's screen
        "argv": [
            python or sys.executable,
            "-c",
            LAUNCHER,
            "--HistoryManager.enabled=False",
            "-f",
            "{connection_file}",
        ],
        "display_name": "Python 3 (sanhui serve)",
        "language": "python",
        "metadata": {"debugger": False},
        # glibc gives every thread its own malloc arena; a kernel has several threads (ZeroMQ,
        # heartbeat, IOPub, control, Voilà's request listener) and each arena keeps freed memory
        "env": {"MALLOC_ARENA_MAX": "2"},
    }
