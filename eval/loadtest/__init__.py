"""`bedside loadtest URL`: many learners at once against one Bedside base URL (a server, or a
proxy over several replicas), with the latency each stage costs and a check, after the run,
that every turn the server acknowledged is in its store. See docs/scaling.md.

One module per job: `target` (the URL and what it serves), `lines` (what the learners say),
`pacing` (think time), `speech` (learner audio, synthesised once and cached), `connection`
(one websocket and its events), `text_session` / `voice_session` (one learner), `readback`
(stored turns), `report` (figures and verdict), `runner` (all of it), `cli` (flags).
"""
