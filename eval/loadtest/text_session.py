"""One typed-text learner: think, send a line, wait for the three events of its turn, repeat.
The round trip is timed from just before the send to the arrival of patient.text."""

from __future__ import annotations

import asyncio
import random
import time

from server.api.protocol import LearnerText

from .connection import Connection, ConnectionLost
from .pacing import Pacing
from .records import REPLY_TIMEOUT, SERVER_TEXT_STAGES, SessionRecord, server_stages


async def run_text_turns(conn: Connection, record: SessionRecord, lines: list[str], pacing: Pacing,
                         rng: random.Random, timeout_s: float) -> None:
    for n, line in enumerate(lines, 1):
        await asyncio.sleep(pacing.think_s(rng))
        record.turns_attempted += 1
        msg = LearnerText(type="learner.text", text=line, client_turn_id=f"loadtest-{n}")
        sent = time.perf_counter()
        await conn.send(msg.model_dump_json())
        sample: dict[str, float] = {}
        try:
            while True:
                arrival = await conn.next(timeout_s)
                if arrival.type == "grade.turn":
                    sample.update(server_stages(arrival.event.get("timings_ms") or {}, SERVER_TEXT_STAGES))
                elif arrival.type == "patient.text":
                    sample["client.round_trip"] = (arrival.at - sent) * 1000
                    record.samples.append(sample)
                    break
                elif arrival.type == "error":  # counted by the connection; the next line goes on
                    break
        except TimeoutError:
            record.error(REPLY_TIMEOUT)
            return  # a reply may still be on its way: later turns would read it as theirs
        except ConnectionLost as lost:
            record.error(lost.code)
            return
