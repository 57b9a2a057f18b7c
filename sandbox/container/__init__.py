"""What runs inside a sandbox container (the image's /opt/rlvr): the runner (PID 1), the zygote that forks
every other process, the judge that runs tests, the program's side of a test run, and the wire format of plain
data between them. Standard library only; the host imports ``wire`` to read the values a test run sends back.
"""
