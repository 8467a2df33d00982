# 6 lines 5 code 1 comments 0 blanks
defmodule M do
  @doc """
  # not a comment
  """
  def f, do: "#{1}" end
