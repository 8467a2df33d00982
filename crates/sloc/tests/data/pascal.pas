// 5 lines 2 code 3 comments 0 blanks
{ brace comment }
(* paren comment *)
program P;
begin writeln('it''s { not a comment'); end.
