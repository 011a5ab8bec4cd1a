"""The coordinators' desk: everything that waits for them on one page, who took up what, notes on
members, and a weekly summary by email."""
