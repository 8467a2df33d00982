-- 12 lines 5 code 6 comments 1 blanks
tell application "Finder"
  activate
end tell
-- a line comment
# another kind of line comment

(* a block comment
   still inside it *)
(* outer (* inner *) still a comment *)
set x to 1 (* a comment after code *)
set s to "-- not a comment"
