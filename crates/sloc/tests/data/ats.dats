// 10 lines 4 code 5 comments 1 blanks
implement main0 () =
  print "hi"
// a line comment

(* a block comment
   still inside it *)
/* another block comment */
y = 1; (* a comment after code *)
x = "// not a comment";
