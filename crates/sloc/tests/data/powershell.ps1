# 6 lines 2 code 4 comments 0 blanks
<#
  block comment
#>
$s = "a `" # b"
Write-Output $s
