% 5 lines 2 code 3 comments 0 blanks
Quote = $", Percent = $%,
% a comment: `$"` and `$%` are character literals
Esc = [$\", $\\], S = "a string",
% another comment
