"""Personal pots (the cooperatives' "thermometer"): a member saves hours towards a goal of their own."""
