// The persistent resource store lives here (issue 2 §5).
