; 7 lines 4 code 2 comments 1 blanks
define i32 @main() {
  ret i32 0
}
; a line comment

@s = constant [3 x i8] c";\00"
