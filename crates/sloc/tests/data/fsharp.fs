// 4 lines 2 code 2 comments 0 blanks
(* block *)
let s = """raw // "quotes" """
let t = "a \" b"
