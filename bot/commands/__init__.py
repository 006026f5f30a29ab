"""The staff commands, by subject; ``bot.staffbot`` routes to them."""
