(* 7 lines 3 code 3 comments 1 blanks *)
fun main () = return <xml>hi</xml>
val x = 1

(* a block comment
   still inside it *)
x = "(* not a comment";
