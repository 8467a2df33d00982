-- 9 lines 4 code 4 comments 1 blanks
CREATE OR REPLACE PACKAGE demo AS
END demo;
-- a line comment

/* a block comment
   still inside it */
y = 1; /* a comment after code */
v := '-- not a comment';
