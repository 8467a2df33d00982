-- 11 lines 4 code 6 comments 1 blanks
target("demo")
  set_kind("binary")
-- a line comment

--[[ a block comment
   still inside it ]]
--[=[ another block comment ]=]
--[==[ another block comment ]==]
add_rules("mode.debug") --[[ a comment after code ]]
add_files("--.c")
