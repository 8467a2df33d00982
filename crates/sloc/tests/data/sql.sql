-- 6 lines 3 code 2 comments 1 blanks
/* a block comment */
SELECT '-- not a comment', 'it''s /* fine'

FROM t -- trailing
WHERE x = 1;
