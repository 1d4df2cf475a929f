// The built-in sample apps (`meshlab app NAME`) live here (issue 3 §4).
