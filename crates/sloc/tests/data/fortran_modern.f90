! 7 lines 4 code 2 comments 1 blanks
program hello
  print *, "hi"
end program hello
! a line comment

x = "! not a comment";
