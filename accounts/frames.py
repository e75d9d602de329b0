"""The socket's frame registry. Each app registers the frame types it answers and the hooks
it needs (in its own `frames.py`, imported by its AppConfig.ready):

    @frame_handler("message.send")
    async def message_send(consumer, frame): ...

    @socket_hook("connect")      # after accept: re-send what the client may have missed
    @socket_hook("resume")       # on a `resume` frame, in registration order
    @socket_hook("disconnect")

    @frame_localizer("offer.new")  # names in a frame, put in the socket's language on the way out
    async def offer_names(frame, language): ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from accounts.consumers import ClientConsumer

FrameHandler = Callable[["ClientConsumer", dict[str, Any]], Awaitable[None]]
Hook = Callable[..., Awaitable[None]]
HookName = Literal["connect", "resume", "disconnect"]
FrameLocalizer = Callable[[dict[str, Any], str], Awaitable[dict[str, Any]]]

FRAME_HANDLERS: dict[str, FrameHandler] = {}
HOOKS: dict[str, list[Hook]] = {"connect": [], "resume": [], "disconnect": []}
# Frames are built once, wherever the event happens (a worker, another web process), and go to
# sockets of people who read different languages: a localizer rewrites a frame's display text
# from its codes for one socket.
FRAME_LOCALIZERS: dict[str, FrameLocalizer] = {}


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


def frame_localizer(frame_type: str) -> Callable[[FrameLocalizer], FrameLocalizer]:
    def register(fn: FrameLocalizer) -> FrameLocalizer:
        if frame_type in FRAME_LOCALIZERS and FRAME_LOCALIZERS[frame_type] is not fn:
            raise RuntimeError(f"frame type {frame_type!r} localized twice")
        FRAME_LOCALIZERS[frame_type] = fn
        return fn

    return register
