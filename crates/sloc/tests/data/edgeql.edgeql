# 7 lines 4 code 2 comments 1 blanks
select User {
  name
};
# a line comment

select '# not a comment';
