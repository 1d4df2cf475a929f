// HTTP/1.1 codec, server, client and connection pool live here (issue 2 §3).
