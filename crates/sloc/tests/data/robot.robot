# 6 lines 3 code 2 comments 1 blanks
*** Test Cases ***

Example
    Log    hi
# a line comment
