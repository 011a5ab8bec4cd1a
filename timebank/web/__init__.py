"""What every page shares: the one commit point for forms (`submit`), guards (`coordinator_required`,
`safe_next`), shared form fields and the filters that say dates, times and amounts.

Views import services, models, forms and this package; nothing imports a view."""
