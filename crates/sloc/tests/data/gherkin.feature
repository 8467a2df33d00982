# 3 lines 2 code 1 comments 0 blanks
Feature: x
  Scenario: y
