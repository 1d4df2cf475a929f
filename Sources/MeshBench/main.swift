// `make bench`: meshlab's own servers against real peers, same machine, same run.
print("meshlab-bench: nothing to measure yet")
