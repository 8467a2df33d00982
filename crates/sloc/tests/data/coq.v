(* 8 lines 3 code 4 comments 1 blanks *)
Require Import Arith.
Definition double (n : nat) := 2 * n.

(* a block comment
   still inside it *)
(* outer (* inner *) still a comment *)
Definition s := "(* not a comment".
