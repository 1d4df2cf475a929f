// Commands live here (issue 2 §7).
