# 8 lines 1 code 7 comments 0 blanks
#= outer #= nested =#
   still outer =#
"""
    f(x)
Docstring.
"""
f(x) = "#= no =#"
