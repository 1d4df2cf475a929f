// The event loop, sockets, timers and service lifecycle live here (issue 2 §2).
