-- 12 lines 5 code 6 comments 1 blanks
--[===[ a level-3 comment
]] ]=] ]==] do not close it
]===]
s = [==[ a level-2 string
-- not a comment ]] ]=]
]==]
t = [=[ x ]=] -- comment after code

--[====[
]====]
u = 1
