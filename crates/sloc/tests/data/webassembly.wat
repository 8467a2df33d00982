;; 10 lines 4 code 5 comments 1 blanks
(module
  (func (result i32) i32.const 0))
;; a line comment

(; a block comment
   still inside it ;)
(; outer (; inner ;) still a comment ;)
(memory 1) (; a comment after code ;)
(data (i32.const 0) ";; not a comment")
