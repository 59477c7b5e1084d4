"""kombu's `filesystem://` broker with whole messages: a message file appears in the queue folder complete.

kombu writes a message by opening its final `*.msg` name, then locking and writing it; a worker polling the
folder can move and read the file between the open and the write, get an empty message and die on it
(JSONDecodeError in the transport's `_get`). Sending many runs at once (a step's shards side by side) makes
that likely. Here the sender writes the message under a name the queue never reads, then renames it into
place, which is atomic on one filesystem, so a reader sees either no file or the whole message. Only the
sending side changes; workers read as before.
"""

import os
import uuid
from time import monotonic

_patched = False


def write_messages_whole() -> None:
    """Make kombu's filesystem transport put each message by write-then-rename (idempotent, process-wide)."""
    global _patched
    if _patched:
        return
    from kombu.transport import filesystem
    from kombu.utils.encoding import str_to_bytes
    from kombu.utils.json import dumps

    from schemas.atomic import write_bytes

    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        try:  # a hidden `.<name>.<random>.tmp` first, which no queue reads, then one rename
            write_bytes(str_to_bytes(dumps(payload)), final, durable=False)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    filesystem.Channel._put = _put
    _patched = True
