-- 3 lines 2 code 1 comments 0 blanks
procedure P is begin null; end P;
S : String := "-- no";
