;; 2 lines 1 code 1 comments 0 blanks
(setq x "; no")
