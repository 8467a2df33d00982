(* 4 lines 2 code 2 comments 0 blanks *)
(* outer (* nested *) still *)
let s = "(* not a comment"
let () = print_string s
