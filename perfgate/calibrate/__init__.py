"""Generator calibration: how fast one worker can send, against a canned-response server."""
