"""The socket's frame registry. Each app registers the frame types it answers and the hooks
it needs (in its own `frames.py`, imported by its AppConfig.ready):

    @frame_handler("message.send")
    async def message_send(consumer, frame): ...

    @socket_hook("connect")      # after accept: re-send what the client may have missed
    @socket_hook("resume")       # on a `resume` frame, in registration order
    @socket_hook("disconnect")
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from accounts.consumers import ClientConsumer

FrameHandler = Callable[["ClientConsumer", dict[str, Any]], Awaitable[None]]
Hook = Callable[..., Awaitable[None]]
HookName = Literal["connect", "resume", "disconnect"]

FRAME_HANDLERS: dict[str, FrameHandler] = {}
HOOKS: dict[str, list[Hook]] = {"connect": [], "resume": [], "disconnect": []}


def frame_handler(frame_type: str) -> Callable[[FrameHandler], FrameHandler]:
    def register(fn: FrameHandler) -> FrameHandler:
        if frame_type in FRAME_HANDLERS and FRAME_HANDLERS[frame_type] is not fn:
            raise RuntimeError(f"frame type {frame_type!r} registered twice")
        FRAME_HANDLERS[frame_type] = fn
        return fn

    return register


def socket_hook(name: HookName) -> Callable[[Hook], Hook]:
    def register(fn: Hook) -> Hook:
        if fn not in HOOKS[name]:
            HOOKS[name].append(fn)
        return fn

    return register
