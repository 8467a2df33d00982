(* 7 lines 2 code 4 comments 1 blanks *)
theory Demo imports Main
begin

(* a block comment
   still inside it *)
{* another block comment *}
