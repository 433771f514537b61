"""The door: reading a scanned code, judging and recording a scan, the kept connection, scanner
links and the phone's offline data, sync, walk-ins, and the door's read-only lists.

The door may import seat allocation (`checkin.seats`), never the reverse."""
