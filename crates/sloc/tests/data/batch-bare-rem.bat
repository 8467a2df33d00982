:: 4 lines 1 code 3 comments 0 blanks
REM
echo on
@rem
