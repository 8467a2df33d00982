# 6 lines 3 code 2 comments 1 blanks
# An oh-my-zsh theme is a zsh script.
PROMPT='%n@%m %~ # not a comment '

RPROMPT="${vcs_info_msg_0_}"
echo ${#PROMPT}
