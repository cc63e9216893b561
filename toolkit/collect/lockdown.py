"""Make a served kernel refuse code from the browser.

Voilà runs an app notebook top to bottom, then keeps the kernel alive so its widgets can talk to it.
The kernel's websocket is reachable from the page, so without this a visitor could send an
``execute_request`` from the browser console and run Python on the meeting laptop. The last cell of
every served notebook calls :func:`lock_kernel`: from then on the kernel ignores every request that
would run or inspect code (on the shell and the control channel), while widget (comm) messages keep
working.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BLOCKED_REQUESTS", "lock_kernel"]

#: Message types a locked kernel ignores: everything that runs, completes or inspects code.
BLOCKED_REQUESTS = (
    "execute_request",
    "complete_request",
    "inspect_request",
    "history_request",
    "is_complete_request",
    "debug_request",
    "create_subshell_request",
    "delete_subshell_request",
    "list_subshell_request",
)


def lock_kernel() -> bool:
    """Stop the running IPython kernel from executing anything sent to it from now on.

    Returns ``True`` when a kernel was locked, ``False`` outside a kernel (plain Python, tests).
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of ipywidgets
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return False

    async def refuse(stream: Any, idents: Any, parent: Any) -> None:
        msg_type = parent.get("header", {}).get("msg_type", "?")
        kernel.log.warning("sanhui: refused %s from the browser (kernel is locked)", msg_type)

    for table_name in ("shell_handlers", "control_handlers"):
        table = getattr(kernel, table_name, None)
        if isinstance(table, dict):
            for msg_type in BLOCKED_REQUESTS:
                if msg_type in table:
                    table[msg_type] = refuse
    return True
