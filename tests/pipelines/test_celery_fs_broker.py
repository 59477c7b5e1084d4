"""The filesystem broker's messages appear in the queue folder whole, so a polling worker never reads half one."""

import os

from kombu import Connection

from pipelines.celery_fs_broker import write_messages_whole


def test_a_message_is_written_aside_and_renamed_into_the_queue(tmp_path, monkeypatch):
    write_messages_whole()
    folder = tmp_path / "queue"
    folder.mkdir()
    seen_while_writing: list[list[str]] = []
    real_replace = os.replace

    def replace(src, dst):
        seen_while_writing.append(sorted(p.name for p in folder.iterdir() if p.name.endswith(".msg")))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    with Connection("filesystem://", transport_options=options) as conn:
        queue = conn.SimpleQueue("steps")
        queue.put({"step": "meds_data", "payload": "x" * 200_000})
        assert seen_while_writing == [[]]  # while the bytes were written, no `.msg` file was visible
        assert [p.suffix for p in folder.iterdir()] == [".msg"]  # and no partial file is left behind
        message = queue.get(timeout=5)
        assert message.payload == {"step": "meds_data", "payload": "x" * 200_000}
        message.ack()
        queue.close()
