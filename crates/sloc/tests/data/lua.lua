-- 9 lines 4 code 4 comments 1 blanks
--[[ a block
comment ]]
local s = "--[[ not a comment"
local raw = [[
-- raw string, code
]]

--[==[ level-2 block ]] still ]==]
