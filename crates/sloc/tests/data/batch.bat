:: 4 lines 2 code 2 comments 0 blanks
REM a remark
@echo off
echo done
